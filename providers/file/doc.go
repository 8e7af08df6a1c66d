// Package file is a layer that reads a configuration file: YAML, JSON or TOML.
package file
