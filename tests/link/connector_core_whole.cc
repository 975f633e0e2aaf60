// Intentionally empty: tether_connector_core_whole is made of the connector-side libraries'
// objects alone (tests/link/CMakeLists.txt). A shared library needs one source of its own.
