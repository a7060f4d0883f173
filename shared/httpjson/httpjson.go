// Package httpjson writes the HTTP APIs' JSON answers: the media type, the
// cache rule (no-store: an answer about sessions or settings is never
// kept by a cache) and the status are set in one place.
package httpjson

import (
	"encoding/json"
	"net/http"
)

// Write answers v as application/json with status.
func Write(w http.ResponseWriter, status int, v any) {
	WriteAs(w, status, "application/json", v)
}

// WriteAs answers v as JSON of the media type mediaType (such as
// application/problem+json) with status.
func WriteAs(w http.ResponseWriter, status int, mediaType string, v any) {
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
