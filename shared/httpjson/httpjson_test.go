package httpjson

import (
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		write     func(*httptest.ResponseRecorder)
		mediaType string
	}{
		{func(w *httptest.ResponseRecorder) { Write(w, 201, map[string]int{"a": 1}) }, "application/json"},
		{func(w *httptest.ResponseRecorder) {
			WriteAs(w, 201, "application/problem+json", map[string]int{"a": 1})
		}, "application/problem+json"},
	} {
		w := httptest.NewRecorder()
		c.write(w)
		if w.Code != 201 || w.Header().Get("Content-Type") != c.mediaType || w.Header().Get("Cache-Control") != "no-store" || w.Body.String() != "{\"a\":1}\n" {
			t.Errorf("answer = %d %v %q; want 201, %s, no-store, {\"a\":1}", w.Code, w.Header(), w.Body.String(), c.mediaType)
		}
	}
}
