package configtest

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// snapshot is a deep record of a State, by path ("Prev.(*pkg.state).versions
// ["alpha"]"), for telling whether a Refresh modified its req.Prev. It holds
// the State's values as text so that any change shows; it is compared, never
// printed: the State may hold secrets.
type snapshot map[string]string

// snapshotOf walks v (a State) through pointers, interfaces, maps (in sorted
// key order), slices, arrays and structs, unexported fields included, read
// through reflect without Interface. A pointer, map or slice seen before is
// recorded as a reference to the path where it was first seen, so cycles end.
func snapshotOf(v any) snapshot {
	w := &walker{out: snapshot{}, seen: map[visit]string{}}
	w.walk("Prev", reflect.ValueOf(&v).Elem())
	return w.out
}

type visit struct {
	typ reflect.Type
	ptr uintptr
	len int
}

type walker struct {
	out  snapshot
	seen map[visit]string
}

// walk records v at path and walks what v holds.
func (w *walker) walk(path string, v reflect.Value) {
	if text, ok := scalar(v); ok {
		w.out[path] = text
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			w.out[path] = "nil interface"
			return
		}
		e := v.Elem()
		w.out[path] = "interface holding " + e.Type().String()
		w.walk(path+".("+e.Type().String()+")", e)
	case reflect.Pointer:
		if w.reference(path, v, 0) {
			return
		}
		e := v.Elem()
		if k := e.Kind(); k == reflect.Struct || k == reflect.Array {
			w.walk(path, e) // a field or element of *p reads as p.f, p[i]
			return
		}
		w.walk("(*"+path+")", e)
	case reflect.Struct:
		for i := range v.NumField() {
			w.walk(path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			w.walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	case reflect.Slice:
		if w.reference(path, v, v.Len()) {
			return
		}
		for i := range v.Len() {
			w.walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
		}
	case reflect.Map:
		if w.reference(path, v, 0) {
			return
		}
		w.walkMap(path, v)
	default: // Chan, Func, UnsafePointer: their identity only
		w.out[path] = fmt.Sprintf("%s %#x", v.Type(), v.Pointer())
	}
}

// reference records the pointer, map or slice v at path, and reports whether
// there is nothing more to walk: v is nil, or was walked before.
func (w *walker) reference(path string, v reflect.Value, n int) bool {
	if v.IsNil() {
		w.out[path] = "nil " + v.Type().String()
		return true
	}
	// The address is part of the record: making a field of Prev point at
	// another value, even an equal one, modifies Prev.
	w.out[path] = fmt.Sprintf("%s %#x len %d", v.Type(), v.Pointer(), n)
	key := visit{v.Type(), v.Pointer(), n}
	if first, ok := w.seen[key]; ok {
		w.out[path] += " (as at " + first + ")"
		return true
	}
	w.seen[key] = path
	return false
}

// walkMap walks the entries of m in the order of their keys' text. A key is
// shown in a path only when it is a string or number that holds no secret
// text; any other key is shown by its position.
func (w *walker) walkMap(path string, m reflect.Value) {
	type entry struct {
		text string
		key  reflect.Value
	}
	var entries []entry
	for it := m.MapRange(); it.Next(); {
		entries = append(entries, entry{keyText(it.Key()), it.Key()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.text, b.text) })
	texts := make([]string, len(entries))
	for i, e := range entries {
		texts[i] = e.text
	}
	w.out[path] += " keys " + strings.Join(texts, "\x00")
	for i, e := range entries {
		shown := "[key #" + strconv.Itoa(i+1) + " of " + strconv.Itoa(len(entries)) + "]"
		if k := e.key.Kind(); (k == reflect.String || isNumber(k)) && !strings.Contains(e.text, Canary) {
			shown = "[" + e.text + "]"
		}
		w.walk(path+shown, m.MapIndex(e.key))
	}
}

// keyText is the text of a map key: its own for a string or number, its
// whole snapshot for any other.
func keyText(k reflect.Value) string {
	if text, ok := scalar(k); ok && (k.Kind() == reflect.String || isNumber(k.Kind())) {
		return text
	}
	w := &walker{out: snapshot{}, seen: map[visit]string{}}
	w.walk("", k)
	paths := make([]string, 0, len(w.out))
	for p, text := range w.out {
		paths = append(paths, p+"="+text)
	}
	slices.Sort(paths)
	return strings.Join(paths, "\x00")
}

// scalar returns the text of a value that holds no other.
func scalar(v reflect.Value) (string, bool) {
	switch k := v.Kind(); {
	case k == reflect.Invalid:
		return "invalid", true
	case k == reflect.String:
		return strconv.Quote(v.String()), true
	case k == reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case k >= reflect.Int && k <= reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case k >= reflect.Uint && k <= reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10), true
	case k == reflect.Float32 || k == reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	case k == reflect.Complex64 || k == reflect.Complex128:
		return strconv.FormatComplex(v.Complex(), 'g', -1, 128), true
	}
	return "", false
}

func isNumber(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Complex128
}

// changes returns the paths whose record differs between s and after, sorted.
func (s snapshot) changes(after snapshot) []string {
	var out []string
	for p, text := range s {
		if a, ok := after[p]; !ok || a != text {
			out = append(out, p)
		}
	}
	for p := range after {
		if _, ok := s[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
