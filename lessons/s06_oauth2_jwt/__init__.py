"""Stage 06, OAuth2 and JWT: bcrypt passwords, the password flow, access and refresh tokens
with rotation and reuse detection, logout and password changes that take tokens back."""
