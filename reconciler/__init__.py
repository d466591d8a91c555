"""Configuration as code for Jira Service Management Cloud."""

__version__ = "0.1.0"
