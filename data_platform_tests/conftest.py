"""Fixtures live in plugins under fixtures/, one per real service."""

pytest_plugins = [
    "data_platform_tests.fixtures.s3",
    "data_platform_tests.fixtures.lakehouse",
    "data_platform_tests.fixtures.dagster",
    "data_platform_tests.fixtures.dagster_dev",
    "data_platform_tests.fixtures.label_studio",
    "data_platform_tests.fixtures.ray_cluster",
]
