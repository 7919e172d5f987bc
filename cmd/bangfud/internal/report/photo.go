package report

import (
	"fmt"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"

	"bangfu/domain"
)

// SheetPhotos lists the photos attached to the visits, problems and
// measures in the report's scope, each with its thumbnail embedded (when
// Input.Thumb gives one). Where a photo was taken is written only in a
// workbook with whole ID numbers (Input.IDs): a masked export keeps no
// location.
const SheetPhotos = "照片"

// thumbRow is the height, in points, of a row that holds a thumbnail
// (domain thumbnails are 240 px on their long side, shown at half size).
const thumbRow = 96

// photoSheet is the list of photos, its rows and the thumbnails to embed
// (by row index), and whether it has the location column.
func (r *report) photoSheet() (sheet, []pic) {
	s := sheet{name: SheetPhotos, title: "走访照片",
		header: cat([]string{"添加时间", "拍摄时间"}, placeHeader, idHeader,
			[]string{"所属", "添加人", "说明", "大小（KB）", "尺寸", "照片编号（SHA-256）", "缩略图"}),
		widths: cat([]float64{17, 17}, placeWidths, idWidths, []float64{8, 10, 30, 10, 11, 20, 26}),
	}
	if r.in.IDs {
		s.header = append(s.header, "拍摄位置（纬度, 经度）")
		s.widths = append(s.widths, 22)
	}
	var photos []*domain.Photo
	for _, p := range r.in.Photos {
		if !p.Deleted && r.inScope[p.Household] && r.inRange(p.Created) {
			photos = append(photos, p)
		}
	}
	sort.Slice(photos, func(i, j int) bool {
		a, b := photos[i], photos[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.ID.String() < b.ID.String()
	})
	var thumbs []pic
	for _, p := range photos {
		of, _ := domain.KindName(p.OfKind)
		var taken any = ""
		if !p.Taken.IsZero() {
			taken = stamp(p.Taken)
		}
		row := cat([]any{stamp(p.Created), taken}, r.householdCols(p.Household), r.idCols(p.Household),
			[]any{of, r.cadreName(p.Cadre), p.Caption, (p.Size + 1023) / 1024, fmt.Sprintf("%d×%d", p.Width, p.Height), p.Hash, ""})
		if r.in.IDs {
			loc := ""
			if p.Located() {
				loc = fmt.Sprintf("%.5f, %.5f", p.Lat, p.Lon)
			}
			row = append(row, loc)
		}
		s.rows = append(s.rows, row)
		th := pic{alt: p.Caption}
		if r.in.Thumb != nil {
			th.jpeg = r.in.Thumb(p.Hash)
		}
		thumbs = append(thumbs, th)
	}
	return s, thumbs
}

// writePhotoSheet writes the photo sheet with the workbook's title block
// and header, and embeds the thumbnails in its last column but one (or
// last): not through a stream writer, which cannot hold pictures.
func (r *report) writePhotoSheet(f *excelize.File, st *styles, s sheet, thumbs []pic) error {
	name := s.name
	for i, w := range s.widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(name, col, col, w); err != nil {
			return err
		}
	}
	title := s.title
	if p := r.period(); p != "" {
		title += "（" + p + "）"
	}
	unit := r.in.Unit
	if unit == "" {
		unit = "—"
	}
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(name, cell, v); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(name, cell, cell, style)
		}
		return nil
	}
	if err := set("A1", title, st.title); err != nil {
		return err
	}
	if err := set("A2", fmt.Sprintf("制表单位：%s　　制表日期：%s", unit, r.now.In(China).Format("2006-01-02")), st.sub); err != nil {
		return err
	}
	for i, h := range s.header {
		cell, _ := excelize.CoordinatesToCellName(i+1, HeaderRow)
		if err := set(cell, h, st.head); err != nil {
			return err
		}
	}
	thumbCol := 0
	for i, h := range s.header {
		if h == "缩略图" {
			thumbCol = i + 1
		}
	}
	for i, row := range s.rows {
		y := HeaderRow + 1 + i
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, y)
			var err error
			switch v := v.(type) {
			case date:
				err = set(cell, excelTime(time.Time(v)).Truncate(24*time.Hour), st.date)
			case stamp:
				err = set(cell, excelTime(time.Time(v)), st.stamp)
			default:
				err = set(cell, v, 0)
			}
			if err != nil {
				return err
			}
		}
		if len(thumbs[i].jpeg) == 0 {
			continue
		}
		if err := f.SetRowHeight(name, y, thumbRow); err != nil {
			return err
		}
		cell, _ := excelize.CoordinatesToCellName(thumbCol, y)
		err := f.AddPictureFromBytes(name, cell, &excelize.Picture{Extension: ".jpg", File: thumbs[i].jpeg,
			Format: &excelize.GraphicOptions{AltText: thumbs[i].alt, ScaleX: 0.5, ScaleY: 0.5, OffsetX: 2, OffsetY: 2, Positioning: "oneCell"}})
		if err != nil {
			return fmt.Errorf("thumbnail of %s: %w", s.rows[i][thumbCol-2], err)
		}
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: HeaderRow, TopLeftCell: fmt.Sprintf("A%d", HeaderRow+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(s.header), HeaderRow+max(len(s.rows), 1))
	return f.AutoFilter(name, fmt.Sprintf("A%d:%s", HeaderRow, last), nil)
}

// pic is a thumbnail to embed, and its alternative text.
type pic struct {
	jpeg []byte
	alt  string
}
