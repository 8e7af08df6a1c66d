package secretdir

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-go/strata/config"
)

// dataLink is the kubelet's symlink to the directory that holds the current
// files of a Secret volume.
const dataLink = "..data"

// maxAttempts bounds how often one scan starts again after the kubelet
// swapped ..data while it read.
const maxAttempts = 3

// scan reads the directory into a new state, reusing from prev every file
// whose size and modification time did not change. A nil state means the
// directory could not be read at all; err says why.
func (l *layer) scan(ctx context.Context, schema *config.Schema, prev *state) (*state, error) {
	for attempt := 1; ; attempt++ {
		next, swapped, err := l.scanOnce(ctx, schema, prev)
		if !swapped {
			return next, err
		}
		if attempt == maxAttempts {
			return nil, &config.SourceError{Layer: layerName, Source: l.dir, Code: config.ErrTransient, Keys: []string{""},
				Message: fmt.Sprintf("%s moved during each of %d reads; reading again at the next refresh", dataLink, maxAttempts)}
		}
	}
}

// scanOnce is one scan. swapped reports that ..data pointed elsewhere after
// a file went missing, so that the scan must start again to read one
// consistent set.
func (l *layer) scanOnce(ctx context.Context, schema *config.Schema, prev *state) (*state, bool, error) {
	target, readDir := l.resolve()
	ents, err := os.ReadDir(readDir)
	if err != nil {
		if target != "" && errors.Is(err, fs.ErrNotExist) {
			if t, _ := l.resolve(); t != target {
				return nil, true, nil
			}
		}
		if l.optional && errors.Is(err, fs.ErrNotExist) {
			return &state{files: map[string]fileState{}}, false, nil
		}
		return nil, false, l.dirError(err)
	}
	next := &state{target: target, files: make(map[string]fileState, len(ents))}
	var errs []error
	byKey := map[string]string{}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		name := e.Name()
		if hidden(name) {
			continue
		}
		path := filepath.Join(l.dir, name)
		key, err := l.key(schema, name, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := byKey[key]; dup {
			errs = append(errs, &config.SourceError{Layer: layerName, Source: path, Code: config.ErrMalformed, Keys: []string{key},
				Message: fmt.Sprintf("%s and %s both name the key %s; keep one", other, name, key)})
			continue
		}
		byKey[key] = name
		rec, err := l.readFile(prev, target, filepath.Join(readDir, name), path, key, name)
		if err != nil {
			if target != "" && errors.Is(err, fs.ErrNotExist) {
				if t, _ := l.resolve(); t != target {
					return nil, true, nil
				}
			}
			errs = append(errs, err)
			if p, ok := prev.file(name); ok && p.key == key {
				next.files[name] = p // keep the value served until the file reads again
			}
			continue
		}
		next.files[name] = rec
	}
	return next, false, errors.Join(errs...)
}

// resolve returns the target of ..data ("" when there is none) and the
// directory to list: the target, so that one scan reads one generation of
// the kubelet's files, or the directory itself.
func (l *layer) resolve() (target, readDir string) {
	t, err := os.Readlink(filepath.Join(l.dir, dataLink))
	if err != nil {
		return "", l.dir
	}
	if filepath.IsAbs(t) {
		return t, t
	}
	return t, filepath.Join(l.dir, t)
}

// readFile stats the file at readPath and reads it unless prev holds it with
// the same size and modification time in the same generation. path is the
// visible path, the one every Source and error names.
func (l *layer) readFile(prev *state, target, readPath, path, key, name string) (fileState, error) {
	info, err := os.Stat(readPath)
	if err != nil {
		return fileState{}, fileError(path, key, err)
	}
	if !info.Mode().IsRegular() {
		return fileState{}, &config.SourceError{Layer: layerName, Source: path, Code: config.ErrMalformed, Keys: []string{key},
			Message: fmt.Sprintf("not a regular file (%s); a value is one file", info.Mode().Type())}
	}
	if p, ok := prev.file(name); ok && prev.target == target && p.key == key &&
		p.size == info.Size() && p.mtime == info.ModTime().UnixNano() {
		return p, nil
	}
	content, err := os.ReadFile(readPath)
	if l.readHook != nil {
		l.readHook(path)
	}
	if err != nil {
		return fileState{}, fileError(path, key, err)
	}
	return fileState{key: key, path: path, size: info.Size(), mtime: info.ModTime().UnixNano(),
		sum: sha256.Sum256(content), value: trimNewline(string(content))}, nil
}

// fileError is the error for a file that cannot be read: it names the file
// and never its content.
func fileError(path, key string, err error) error {
	e := &config.SourceError{Layer: layerName, Source: path, Err: err, Keys: []string{key}}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Code, e.Message = config.ErrNotFound, "the file is listed but does not exist (a dangling symlink?)"
	case errors.Is(err, fs.ErrPermission):
		e.Code, e.Message = config.ErrAccessDenied, "the file may not be read by this process"
	default:
		e.Code, e.Message = config.ErrMalformed, "cannot read the file"
	}
	return e
}

// trimNewline removes one trailing "\r\n" or, failing that, one "\n", and
// keeps everything else byte for byte.
func trimNewline(s string) string {
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		return t
	}
	t, _ := strings.CutSuffix(s, "\n")
	return t
}
