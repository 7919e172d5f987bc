package protocol

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"bangfu/domain"
)

// TestDecodeChangeMatchesJSON decodes changes as servers write them and in
// every other form JSON allows — spaces, escapes, keys in other case,
// repeated or unknown keys, nulls, nested values — with decodeChange and
// with json.Unmarshal, and wants the same.
func TestDecodeChangeMatchesJSON(t *testing.T) {
	base := `{"id":"240fca17-ab40-54ec-8866-96c983e43ced","kind":"measure","record":"e2c7dad2-205a-583e-922f-c894f26046c4","author":"7147fb02-c2ad-509c-9c7b-b134f6792183","stamp":"1740817740125.3.d2642ae3-470d-564f-bc53-2eb784fb97c8","fields":{"progress":"in_progress","target":"散养鸡 50 只 & 花椒 2 亩","n":12,"ok":true,"list":["a","b\"]}"],"obj":{"x":[1,{"y":null}]},"z":null},"base":{"progress":"1740645000125.0.e8ee74b2-a4d1-5b83-bee2-da00caf76bb8"}}`
	edits := [][2]string{
		{"", ""},
		{`{"id"`, `{ "id" `},
		{`,"kind"`, ` ,` + "\n\t" + `"kind"`},
		{`"kind":"measure"`, `"kind":"meas\u0075re"`},
		{`"record":`, `"Record":`},
		{`"fields":{`, `"fields": {  `},
		{`"progress":"in_progress"`, `"progress" : "in_progress" `},
		{`"n":12`, `"n":12,"n":13`},
		{`"n":12`, `"n\u0041":12`},
		{`,"base":{"progress":"1740645000125.0.e8ee74b2-a4d1-5b83-bee2-da00caf76bb8"}`, `,"base":null`},
		{`,"base":{"progress":"1740645000125.0.e8ee74b2-a4d1-5b83-bee2-da00caf76bb8"}`, ``},
		{`"fields":{"progress"`, `"other":[1,2],"fields":{"progress"`},
		{`"author":"7147fb02-c2ad-509c-9c7b-b134f6792183",`, `"author":"7147fb02-c2ad-509c-9c7b-b134f6792183","author":"x",`},
		{`"ok":true`, `"ok":  true  `},
		{`"obj":{"x":[1,{"y":null}]}`, `"obj":{ "x" : [ 1 , { "y" : null } ] }`},
		{`"stamp":"1740817740125`, `"stamp":"é1740817740125`},
		{`"target":"散养鸡`, `"target":"\u6563养鸡`},
		{`"fields":{`, `"fields":{"名称":"值",`},
		{`}}`, `}} `},
	}
	r := rand.New(rand.NewPCG(8, 8))
	for i := range 400 {
		s := base
		for range 1 + r.IntN(3) {
			e := edits[r.IntN(len(edits))]
			s = strings.Replace(s, e[0], e[1], 1)
		}
		if i < len(edits) {
			s = strings.Replace(base, edits[i][0], edits[i][1], 1)
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("test case not JSON: %s", s)
		}
		var got, want Change
		gotErr := decodeChange([]byte(s), &got)
		wantErr := json.Unmarshal([]byte(s), &want)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\ndecodeChange   %+v (%v)\njson.Unmarshal %+v (%v)", s, got, gotErr, want, wantErr)
		}
	}
	var c Change
	if p := (scan{b: []byte(base)}); !new(streamReader).fastChange(&p, &c) {
		t.Error("a change as a server writes it took the slow path")
	}
}

// decodeChange decodes raw, the JSON text of one change, as the stream
// reader does: with fastChange when it reads it whole, with json.Unmarshal
// otherwise.
func decodeChange(raw []byte, c *Change) error {
	r := &streamReader{}
	p := scan{b: raw}
	if r.fastChange(&p, c) && !p.short {
		p.space()
		if p.i == len(raw) {
			return nil
		}
	}
	*c = Change{}
	return json.Unmarshal(raw, c)
}

// TestCanonicalStamp checks canonicalStamp against what it stands for: a
// stamp domain.ParseStamp reads and domain.Stamp.String writes back the
// same.
func TestCanonicalStamp(t *testing.T) {
	dev := "d2642ae3-470d-564f-bc53-2eb784fb97c8"
	walls := []string{"0", "1", "1740817740125", "01", "+1", "-1", "", "1_000", "9223372036854775807", "9223372036854775808", "00", " 1", "1e3"}
	logicals := []string{"0", "3", "4294967295", "4294967296", "03", "+3", "", "-0"}
	devs := []string{dev, strings.ToUpper(dev), "{" + dev + "}", "urn:uuid:" + dev, strings.ReplaceAll(dev, "-", ""), dev + ".1", ""}
	for _, w := range walls {
		for _, l := range logicals {
			for _, d := range devs {
				s := w + "." + l + "." + d
				st, err := domain.ParseStamp(s)
				want := err == nil && st.String() == s
				if _, err := parseStamp("stamp", s); (err == nil) != want {
					t.Errorf("%q: parseStamp says %v, want canonical %v", s, err, want)
				}
			}
		}
	}
}
