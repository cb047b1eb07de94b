"""What families see without an account: the region's open events, the way back to a ticket, the
privacy notice; and the region's operator details that the consent text names."""
