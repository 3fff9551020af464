"""Template tags of the Django integration."""
