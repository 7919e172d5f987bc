package client_test

import (
	"testing"

	"bangfu/sync/client"
)

func TestPhotoLine(t *testing.T) {
	for _, c := range []struct {
		waiting int
		left    int64
		zh, en  string
	}{
		{0, 0, "", ""},
		{1, 1, "照片 1 张待传 · 剩 1 KB", "1 photo to send · 1 KB left"},
		{3, 430_080, "照片 3 张待传 · 剩 420 KB", "3 photos to send · 420 KB left"},
		{2, 0, "照片 2 张待传 · 剩 0 KB", "2 photos to send · 0 KB left"},
	} {
		s := client.Status{PhotosWaiting: c.waiting, PhotoBytesLeft: c.left}
		if got := s.PhotoLine("zh"); got != c.zh {
			t.Errorf("%d, %d: zh %q, want %q", c.waiting, c.left, got, c.zh)
		}
		if got := s.PhotoLine("en"); got != c.en {
			t.Errorf("%d, %d: en %q, want %q", c.waiting, c.left, got, c.en)
		}
	}
}
