package mailin

import (
	"testing"
)

func TestReaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want string // "" : not a reaction
	}{
		// Emoji alone.
		{"👍", "👍"},
		{"  👍\n", "👍"},
		{"👍🏽", "👍🏽"}, // skin tone
		{"👍👍👍", "👍"}, // the first one stands for them
		{"🎉🎉", "🎉"},
		{"❤️", "❤️"},       // variation selector
		{"👨‍👩‍👧", "👨‍👩‍👧"}, // ZWJ sequence
		{"🏳️‍🌈", "🏳️‍🌈"},   // flag with ZWJ
		{"🇩🇪", "🇩🇪"},       // regional indicators
		{"🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"}, // subdivision flag with tags
		{"1️⃣", "1️⃣"}, // keycap
		{"✅", "✅"},
		{"🙏 🙏", "🙏"},
		{":+1:", "👍"},
		{":thumbsup:", "👍"},
		{":tada:", "🎉"},
		{":shipit:", ":shipit:"},
		{":)", "🙂"},
		{"+1", "👍"},
		{"+1!", "👍"},
		{"-1", "👎"},
		{"+1 👍", "👍"},
		// Acknowledgements, as written.
		{"Thanks!", "Thanks!"},
		{"thanks", "thanks"},
		{"THANKS!!!", "THANKS!!!"},
		{"Thank you.", "Thank you."},
		{"thanks 🙏", "thanks 🙏"},
		{"LGTM 👍", "LGTM 👍"},
		{"lgtm", "lgtm"},
		{"Got it.", "Got it."},
		{"Agreed", "Agreed"},
		{"Sounds good!", "Sounds good!"},
		{"ack", "ack"},
		{"OK", "OK"},
		{"ok, thanks!", "ok, thanks!"},
		{"Great, thanks", "Great, thanks"},
		{"+1, thanks", "+1, thanks"},
		{"Danke!", "Danke!"},
		{"Vielen Dank!", "Vielen Dank!"},
		{"Alles klar, danke.", "Alles klar, danke."},
		{"merci beaucoup", "merci beaucoup"},
		{"Merci !", "Merci !"},
		{"D'accord.", "D'accord."},
		{"¡Muchas gracias!", "¡Muchas gracias!"},
		{"¿Gracias?", ""},
		{"Muchas gracias!", "Muchas gracias!"},
		{"De acuerdo", "De acuerdo"},
		{"Obrigada!", "Obrigada!"},
		{"Valeu", "Valeu"},
		{"Bedankt!", "Bedankt!"},
		{"Dank je wel", "Dank je wel"},
		{"Tack så mycket!", "Tack så mycket!"},
		{"Grazie mille", "Grazie mille"},
		{"ありがとうございます", "ありがとうございます"},
		{"ありがとうございます！", "ありがとうございます！"},
		{"了解しました。", "了解しました。"},
		{"谢谢", "谢谢"},
		{"谢谢！", "谢谢！"},
		{"好的，谢谢", "好的，谢谢"},
		{"好的谢谢", "好的谢谢"},
		{"收到", "收到"},
		{"謝謝", "謝謝"},
		// A name signing it off.
		{"Thanks, Ana", "Thanks"},
		{"Thanks, Ana!", "Thanks"},
		{"thanks!\n\nBo", "thanks!"},
		{"Thanks!\n-Ana Lima", "Thanks!"},
		{"Danke\nJürgen", "Danke"},
		// Below the quote it answers.
		{"On Fri, Nov 27, 2026 at 9:00 AM Ana Lima <ana@example.com> wrote:\n> Shall we ship on Tuesday?\n\n+1", "👍"},
		{"> Shall we ship on Tuesday?\n>\n> Ana\n\nThanks!", "Thanks!"},
		{"> Shall we ship on Tuesday?\n\nYes, and\n\n> who writes the notes?\n\nthanks", ""},
		// Not reactions: anything more than an acknowledgement.
		{"", ""},
		{"   \n", ""},
		{"Thanks for the writeup, I'll review tomorrow", ""},
		{"ok but what about Friday?", ""},
		{"ok?", ""},
		{"Thanks?", ""},
		{"ok\nFriday", ""},
		{"Thanks, Friday works", ""},
		{"ok, Monday", ""},
		{"+10", ""},
		{"+1st place", ""},
		{"1", ""},
		{"2 👍", ""},
		{"Thanks! See the attached log.", ""},
		{"thanks\nthanks\nthanks\nthanks\nthanks", ""},
		{"no", ""},
		{"yes", ""},
		{"okay so here is the plan", ""},
		{"thanks thanks thanks thanks thanks", ""}, // more than four
		{"谢谢你的报告，我明天看", ""},
		{"Thanks @ana", ""},
		{"https://example.com 👍", ""},
		{"mute", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			got := Reaction(tt.text, DefaultReactionWords)
			if got != tt.want {
				t.Errorf("Reaction(%q) = %q, want %q", tt.text, got, tt.want)
			}
			if is := IsReaction(tt.text, DefaultReactionWords); is != (tt.want != "") {
				t.Errorf("IsReaction(%q) = %v", tt.text, is)
			}
		})
	}
}

func TestReactionWordsConfigured(t *testing.T) {
	t.Parallel()
	words := []string{"Roger That", "shipit"}
	for text, want := range map[string]bool{
		"roger that!":    true,
		"ROGER THAT 🫡":   true,
		"ShipIt":         true,
		"thanks":         false, // not in this list
		"👍":              true,  // emoji need no entry
		"+1":             true,
		"roger":          false,
		"roger that now": false,
	} {
		if got := IsReaction(text, words); got != want {
			t.Errorf("IsReaction(%q, %q) = %v, want %v", text, words, got, want)
		}
	}
	if IsReaction("thanks", nil) {
		t.Error("IsReaction with no words took a word")
	}
	if !IsReaction("👍", nil) {
		t.Error("IsReaction with no words refused an emoji")
	}
}

func TestDefaultReactionWordsLowerCase(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, w := range DefaultReactionWords {
		if !IsReaction(w, []string{w}) {
			t.Errorf("%q is not a reaction by itself", w)
		}
		if w != toLowerForTest(w) {
			t.Errorf("%q is not lower case", w)
		}
		seen[w] = true
	}
	// The brief list: these must always be there.
	for _, w := range []string{"thanks", "thank you", "got it", "agreed", "lgtm", "sounds good", "ack", "ok",
		"danke", "merci", "gracias", "obrigado", "bedankt", "tack", "grazie", "ありがとう", "谢谢"} {
		if !seen[w] {
			t.Errorf("DefaultReactionWords lacks %q", w)
		}
	}
}

func toLowerForTest(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r >= 'A' && r <= 'Z' {
			out[i] = r + 'a' - 'A'
		}
	}
	return string(out)
}

func TestReplyCommand(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"mute":                           "mute",
		"Mute":                           "mute",
		"  MUTE.\n":                      "mute",
		"unmute!":                        "unmute",
		"Follow":                         "follow",
		"*follow*":                       "follow",
		"\"mute\"":                       "mute",
		"mute please":                    "",
		"please mute":                    "",
		"mute\nunmute":                   "",
		"muted":                          "",
		"":                               "",
		"mute this thread":               "",
		"I will follow up":               "",
		"unfollow":                       "",
		"mute 👍":                         "",
		"Mute\n\nSent from my":           "",
		"> Reply [6] · Mute [7]\n\nmute": "mute",
		"On Mon, Nov 30, 2026 at 9:00 AM tidings <eng@example.com> wrote:\n> * Flaky CI\n\nunmute": "unmute",
	} {
		if got := ReplyCommand(text); got != want {
			t.Errorf("ReplyCommand(%q) = %q, want %q", text, got, want)
		}
	}
}
