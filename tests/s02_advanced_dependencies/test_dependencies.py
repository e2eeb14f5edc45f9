"""The shape of stage 02's dependency graph, drawn from the app itself."""

from lessons.s02_advanced_dependencies.main import app
from workbook.dependency_tree import dependency_tree


def test_the_dependency_graph_of_delete_users():
    assert dependency_tree(app, "DELETE", "/users/{email}") == "\n".join(
        [
            "DELETE /users/{email} -> delete_user",
            "├── RateLimiter",
            "│   ├── get_tenant",
            "│   ├── get_redis",
            "│   └── get_settings",
            "├── RequirePermission",
            "│   └── get_principal",
            "│       ├── APIKeyHeader",
            "│       ├── get_tenant  (cached: the value built above is reused)",
            "│       └── get_principals",
            "└── get_user_service",
            "    ├── get_user_repository",
            "    │   └── get_session",
            "    │       └── get_tenant  (cached: the value built above is reused)",
            "    ├── get_audit_log",
            "    │   └── get_session  (cached: the value built above is reused)",
            "    │       └── get_tenant  (cached: the value built above is reused)",
            "    └── get_logger",
            "        └── get_settings  (cached: the value built above is reused)",
        ]
    )
