package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
	"bangfu/photo"
	"bangfu/photo/phototest"
)

// TestPhotoSheet: the photos of the report's scope and period, newest
// first, each with its thumbnail embedded; a masked workbook holds no
// location, one with whole IDs does.
func TestPhotoSheet(t *testing.T) {
	m := novemberInput()
	jpg := phototest.JPEG(t, 640, 480, 1)
	thumb, err := photo.Thumbnail(jpg, 240)
	if err != nil {
		t.Fatal(err)
	}
	hash := photo.Hash(jpg)
	at := time.Date(2026, 11, 3, 16, 0, 0, 0, cst)
	located := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: at}, Household: m.ha.ID, OfKind: domain.KindVisit, Of: m.nov.ID,
		Cadre: m.helper.ID, Hash: hash, Size: len(jpg), Width: 640, Height: 480, Lat: 35.60412, Lon: 103.21356, Caption: "屋顶漏雨处"}
	noThumb := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: at.Add(time.Hour)}, Household: m.ha.ID, OfKind: domain.KindProblem, Of: m.escalated.ID,
		Cadre: m.helper.ID, Hash: strings.Repeat("ab", 32), Size: 1000, Width: 10, Height: 10, Caption: "尚未上传"}
	october := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: time.Date(2026, 10, 2, 0, 0, 0, 0, cst)}, Household: m.ha.ID, OfKind: domain.KindVisit,
		Cadre: m.helper.ID, Hash: hash, Size: len(jpg), Caption: "十月"}
	otherTown := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: at}, Household: m.hc.ID, OfKind: domain.KindVisit,
		Cadre: m.helper.ID, Hash: hash, Size: len(jpg), Caption: "外镇"}
	deleted := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: at, Deleted: true}, Household: m.ha.ID, OfKind: domain.KindVisit,
		Cadre: m.helper.ID, Hash: hash, Size: len(jpg), Caption: "已删除"}
	m.in.Photos = []*domain.Photo{located, noThumb, october, otherTown, deleted}
	m.in.Thumb = func(h string) []byte {
		if h == hash {
			return thumb
		}
		return nil
	}
	for _, ids := range []bool{false, true} {
		m.in.IDs = ids
		var buf bytes.Buffer
		counts, err := report.Write(&buf, m.in)
		if err != nil {
			t.Fatal(err)
		}
		if counts[report.SheetPhotos] != 2 {
			t.Fatalf("IDs %v: %d photo rows, want 2", ids, counts[report.SheetPhotos])
		}
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows(report.SheetPhotos)
		if err != nil {
			t.Fatal(err)
		}
		head := rows[report.HeaderRow-1]
		col := func(name string) int {
			for i, h := range head {
				if h == name {
					return i
				}
			}
			return -1
		}
		first, second := rows[report.HeaderRow], rows[report.HeaderRow+1]
		if first[col("说明")] != "尚未上传" || first[col("所属")] != "问题" || second[col("说明")] != "屋顶漏雨处" ||
			second[col("所属")] != "走访记录" || second[col("照片编号（SHA-256）")] != hash || second[col("户主")] != "马甲" {
			t.Fatalf("IDs %v rows:\n%q\n%q", ids, first, second)
		}
		thumbCell, _ := excelize.CoordinatesToCellName(col("缩略图")+1, report.HeaderRow+2)
		pics, err := f.GetPictures(report.SheetPhotos, thumbCell)
		if err != nil || len(pics) != 1 || !bytes.Equal(pics[0].File, thumb) {
			t.Fatalf("IDs %v: thumbnail at %s: %d pictures, %v", ids, thumbCell, len(pics), err)
		}
		noneCell, _ := excelize.CoordinatesToCellName(col("缩略图")+1, report.HeaderRow+1)
		if pics, _ := f.GetPictures(report.SheetPhotos, noneCell); len(pics) != 0 {
			t.Errorf("a picture for a photo without a thumbnail")
		}
		all := strings.Join(flatten(rows), " ")
		if hasLoc := strings.Contains(all, "35.60412"); hasLoc != ids {
			t.Errorf("IDs %v: location in the workbook: %v", ids, hasLoc)
		}
		if c := col("拍摄位置（纬度, 经度）"); (c >= 0) != ids {
			t.Errorf("IDs %v: location column at %d", ids, c)
		}
		f.Close()
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
