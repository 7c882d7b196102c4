package mailin

import "testing"

func TestNormalizeSubject(t *testing.T) {
	tests := []struct {
		in    string
		base  string
		reply bool
	}{
		{"Launch plan", "launch plan", false},
		{"Re: Launch plan", "launch plan", true},
		{"RE: re: Launch   plan", "launch plan", true},
		{"Re: [eng] Launch plan", "launch plan", true},
		{"[eng] Re: Launch plan", "launch plan", true},
		{"[eng] Launch plan", "launch plan", false},
		{"AW: WG: Launch plan", "launch plan", true},
		{"SV: Launch plan", "launch plan", true},
		{"Fwd: Launch plan (fwd)", "launch plan", true},
		{"Re[2]: Launch plan", "launch plan", true},
		{"RE^3: Launch plan", "launch plan", true},
		{"Antw: Launch plan", "launch plan", true},
		{"回复：Launch plan", "launch plan", true},
		{"Reply: Launch plan", "reply: launch plan", false},
		{"Re:", "", true},
		{"", "", false},
		{"Re: Re", "re", true},
		{"Regarding: budget", "regarding: budget", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			base, reply := NormalizeSubject(tt.in)
			if base != tt.base || reply != tt.reply {
				t.Errorf("NormalizeSubject(%q) = %q, %v; want %q, %v", tt.in, base, reply, tt.base, tt.reply)
			}
		})
	}
}

func TestDisplaySubject(t *testing.T) {
	tests := map[string]string{
		"Re: [eng] Launch plan":  "[eng] Launch plan",
		"[eng] Re: Launch plan":  "[eng] Launch plan",
		"AW: Re:  Launch   plan": "Launch plan",
		"Launch plan":            "Launch plan",
	}
	for in, want := range tests {
		if got := DisplaySubject(in); got != want {
			t.Errorf("DisplaySubject(%q) = %q, want %q", in, got, want)
		}
	}
}
