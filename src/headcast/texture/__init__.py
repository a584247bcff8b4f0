"""UV texture atlas from the photo, with completion of unseen regions and materials for eyes and teeth."""
