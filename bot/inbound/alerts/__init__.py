"""Alerts start runs by themselves: Alertmanager's webhook (``POST /hooks/alertmanager``) opens a
thread per alert group and investigates in it (docs/alerts.md)."""
