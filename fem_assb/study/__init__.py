"""Studies: a base scenario swept over parameter values, run as cases, collected into reports."""
