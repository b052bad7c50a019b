"""Collection KPIs: conversations, promises, payments on them and handoffs over a period."""
