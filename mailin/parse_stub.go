package mailin

// Temporary: replaced by the real MIME walk in parse_mime.go.
func parse(raw []byte, lim Limits) (*Parsed, error) { return &Parsed{}, nil }
