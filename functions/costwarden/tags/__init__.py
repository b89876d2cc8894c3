"""Tag policy: the validator, the IaC gate (``costwarden tags validate``) and the weekly account audit."""
