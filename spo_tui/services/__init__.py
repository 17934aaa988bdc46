"""Services: one function per user action (validate, one transaction, audit). Screens and CLI call these."""
