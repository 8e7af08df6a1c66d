// Package secretdir is a layer that reads secrets mounted as files: one value
// per file in one directory, as written by a Kubernetes Secret volume, the
// Secrets Store CSI driver (with the AWS provider, for one) or a volume that
// External Secrets Operator fills through a Kubernetes Secret.
//
//	store, err := config.Load[Config](ctx, &config.Options{EnvPrefix: "APP_"},
//		env.New(nil), secretdir.Dir("/var/run/secrets/app", nil))
//
// # Names
//
// Each file name that does not start with "." is one value. By default
// (Options.Naming ByEnv) a file is named by the field's environment name,
// with the prefix: the file APP_DATABASE_PASSWORD is the field
// database.password. With ByKey it is named by the key: database.password.
// Options.Names maps any other file name to a key ("db-password" to
// "database.password") and takes precedence over the rule. A file name that
// maps to no field is a *config.UnknownNameError naming the file (a file's
// name is not secret; its content is), a warning unless Options.Strict. Two
// files that map to one key are a *config.SourceError on the second in name
// order.
//
// Names that start with "." are never values: the kubelet's ..data,
// ..data_tmp and ..2026_01_02_03_04_05.123456789 entries, editor and
// dot files.
//
// # Content
//
// A value is the file's content byte for byte, except that one trailing
// "\r\n", or failing that one trailing "\n", is removed ("pw\n\n" is "pw\n").
// The layer is Sensitive, so secret fields may be set from it; every value's
// Source is {Layer: "secretdir", Location: <dir>/<file name>}, the path as
// the directory was given joined with the visible file name.
//
// # Errors
//
// A missing directory is a *config.SourceError matching config.ErrNotFound,
// or no values when Options.Optional is set. A file that cannot be read (no
// permission, a dangling symlink, a directory, a FIFO or another entry that
// is not a regular file) is a *config.SourceError naming the file and its
// key, never its content; the other files are still read. No error, log line
// or printed State holds the content of a file.
//
// # Refresh
//
// The layer is a stateless config.Refresher. Its State records the target of
// ..data when the directory has one and, per file, its size, modification
// time and a SHA-256 of its content; it keeps the values only to keep a file
// that fails at its last value, and every way of printing it (fmt, slog,
// encoding/json) shows the ..data target and the number of files only.
//
// When ..data exists (the kubelet's layout: NAME -> ..data/NAME, ..data ->
// ..TIMESTAMP), each read lists and reads the directory ..data points to, so
// one read sees one generation of the files and never a mix of two. If that
// generation is removed while it is read (the kubelet removes the old one
// after renaming ..data_tmp over ..data), the read starts again on the new
// one, up to three times. Without ..data, the directory itself is read.
//
// A refresh lists and stats the files and reads only those whose size or
// modification time changed, or every file after ..data moved; with nothing
// changed it reads no file and reports no change. A change that keeps both
// the size and the modification time of a file in a directory without
// ..data is not seen; writers that replace files (a rename, as every
// Kubernetes writer does) always change the modification time.
//
// # configcheck
//
// The layer is a configcheck FileLister: configcheck lint checks the mode of
// each value file (following the symlinks) and flags one that group or
// others may read, such as the kubelet's default mode 0644; set
// defaultMode: 0400 on the volume.
package secretdir
