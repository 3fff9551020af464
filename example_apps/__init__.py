"""Small apps, one per framework, each with the Pirsch middleware installed. See README.md."""
