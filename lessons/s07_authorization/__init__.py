"""Stage 07, Authorization: scopes per route with Security, roles mapped to scopes, a
PermissionChecker, ownership checks, and permission decisions cached in Redis."""
