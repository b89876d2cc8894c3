"""``costwarden doctor``: is this account ready for the deployment? Pure checks over port answers (``checks``)."""
