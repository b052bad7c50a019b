"""The KPI routes (the figures: `domain.kpis`)."""
