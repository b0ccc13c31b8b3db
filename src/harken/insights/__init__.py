"""Insights (clause 9.1.2): metrics with honest statistics, rollups, trends, control
charts, quality objectives, signals and the dashboard."""
