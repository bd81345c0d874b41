"""Alerts start runs by themselves: Alertmanager's webhook (``POST /hooks/alertmanager``) opens a
thread per alert group, PagerDuty's (``POST /hooks/pagerduty``) one per incident, and each
investigates in it (docs/alerts.md)."""
