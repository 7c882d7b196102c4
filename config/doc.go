// Package config reads tidings' TOML configuration into one typed struct,
// fills in defaults and validates it at start-up, so that the rest of the
// program never sees a half-set option. It also holds the parsers for the
// schedule values that members share with the configuration: time zones,
// "HH:MM" start times and working days such as "mon-fri".
package config
