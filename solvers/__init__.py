"""Ready problem scripts and their classical reference solutions."""
