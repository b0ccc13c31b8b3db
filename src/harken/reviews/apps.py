from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "harken.reviews"
    label = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from harken.core.registry import MenuItem, registry

        from .demo import build_reviews
        from .panels import reviews_panel
        from .ticks import reviews_due

        registry.add_menu(
            MenuItem(
                "Reviews", "Review series", "reviews:reviewseries_list", "reviews.view_reviewseries"
            ),
            MenuItem(
                "Reviews", "Review packs", "reviews:reviewpack_list", "reviews.view_reviewpack"
            ),
            MenuItem(
                "Reviews",
                "Review meetings",
                "reviews:reviewmeeting_list",
                "reviews.view_reviewmeeting",
            ),
        )
        registry.add_demo(50, "reviews", build_reviews)
        registry.add_panel("reviews", reviews_panel)
        registry.add_tick("reviews", reviews_due)
