package dotenv

// Files returns the file the layer reads, as it was given to File, so that a
// tool that checks a configuration before a deploy (configcheck lint) can
// report a .env file that others may read or that git tracks. It implements
// configcheck.FileLister.
func (l *layer) Files() []string { return []string{l.path} }
