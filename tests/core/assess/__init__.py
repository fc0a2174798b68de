"""Security assessment (issue 19) against real peers configured insecurely and securely."""
