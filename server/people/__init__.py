"""A region's people: invitations, roles and their scopes (a municipality, school or venue), and
switching access off. Above the catalog, since a scope names its places."""
