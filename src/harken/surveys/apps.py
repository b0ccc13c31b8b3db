from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "harken.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from harken.communications.links import register_linkable
        from harken.core import scoping
        from harken.core.registry import MenuItem, ObjectLink, registry

        from . import ticks
        from .demo import build_surveys
        from .panels import action_loop_panel, complaint_loop_panel, surveys_panel

        scoping.register("surveys.invitation", "customer")
        scoping.register("surveys.surveyresponse", "customer")

        registry.add_menu(
            MenuItem("Surveys", "Surveys", "surveys:survey_list", "surveys.view_survey"),
            MenuItem(
                "Surveys", "Invitations", "surveys:invitation_list", "surveys.view_invitation"
            ),
            MenuItem(
                "Surveys", "Responses", "surveys:surveyresponse_list", "surveys.view_surveyresponse"
            ),
            MenuItem("Surveys", "Opt-outs", "surveys:optout_list", "surveys.view_optout"),
            MenuItem(
                "Surveys", "Closing the loop", "surveys:looprule_list", "surveys.view_looprule"
            ),
            MenuItem("Surveys", "Loop cases", "surveys:loopcase_list", "surveys.view_loopcase"),
        )
        registry.add_object_link(
            ObjectLink(
                model="feedback.feedbackitem",
                label="Closing the loop",
                url_name="surveys:complaint_loop",
                permission="surveys.view_loopcase",
                param="complaint",
                style="outline-secondary",
            ),
        )
        registry.add_demo(28, "surveys", build_surveys)
        registry.add_panel("surveys", surveys_panel)
        registry.add_record_panel("feedback.feedbackitem", complaint_loop_panel)
        registry.add_record_panel("actions.action", action_loop_panel)
        # The loop and the scheduled surveys run first so that the invitations they queue
        # go out in the same tick.
        registry.add_tick("closing the loop", ticks.closing_the_loop)
        registry.add_tick("relationship rounds", ticks.relationship_rounds)
        registry.add_tick("after-delivery surveys", ticks.after_delivery)
        registry.add_tick("survey invitations", ticks.send_invitations)
        registry.add_tick("survey reminders", ticks.send_reminders)
        registry.add_tick("survey answers to feedback", ticks.record_answers)
        register_linkable("surveys.survey", ("number",), "Survey")
