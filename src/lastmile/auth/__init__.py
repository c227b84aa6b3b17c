"""Who is calling: users with roles, merchant API keys, access tokens, and tenant scope."""
