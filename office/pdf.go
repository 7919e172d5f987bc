package office

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"

	"bangfu/assets/fonts"
)

// The PDFs print on A4 with the bundled CJK font, embedded (subset) in the file.
const pdfFont = "cjk"

// latinFont is fpdf's built-in Helvetica: the CJK font has no Latin letters
// or digits, so text is written in runs, each in the font that has it.
const latinFont = "helvetica"

// doc is a PDF being written, with the current font size.
type doc struct {
	*fpdf.Fpdf
	size float64
}

func newPDF(orientation string) *doc {
	pdf := fpdf.New(orientation, "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(pdfFont, "", fonts.CJK)
	pdf.SetMargins(12, 12, 12)
	pdf.SetAutoPageBreak(true, 12)
	pdf.SetCreator("bangfud", true)
	return &doc{Fpdf: pdf, size: 11}
}

// SetFont sets the size of the text that follows (the family is chosen
// run by run).
func (d *doc) SetFont(_, _ string, size float64) {
	d.size = size
	d.Fpdf.SetFont(pdfFont, "", size)
}

// runs splits s into runs of ASCII and of other characters.
func runs(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if i > start && (r < 0x80) != (s[start] < 0x80) {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func (d *doc) fontFor(run string) {
	if run[0] < 0x80 {
		d.Fpdf.SetFont(latinFont, "", d.size)
	} else {
		d.Fpdf.SetFont(pdfFont, "", d.size)
	}
}

func (d *doc) width(s string) float64 {
	w := 0.0
	for _, r := range runs(s) {
		d.fontFor(r)
		w += d.GetStringWidth(r)
	}
	return w
}

// CellFormat draws a cell like fpdf's, writing its text run by run.
func (d *doc) CellFormat(w, h float64, txt, border string, ln int, align string, fill bool, link int, linkStr string) {
	x, y := d.GetXY()
	if w == 0 {
		pw, _ := d.GetPageSize()
		_, _, right, _ := d.GetMargins()
		w = pw - right - x
	}
	d.Fpdf.CellFormat(w, h, "", border, 0, "", fill, link, linkStr)
	if x2, y2 := d.GetXY(); y2 != y {
		y = y2 // the cell went to a new page
		x = x2 - w
	}
	margin := 1.0
	tw := d.width(txt)
	tx := x + margin
	switch align {
	case "C":
		tx = x + (w-tw)/2
	case "R":
		tx = x + w - margin - tw
	}
	saved := d.GetCellMargin()
	d.SetCellMargin(0)
	for _, r := range runs(txt) {
		d.fontFor(r)
		rw := d.GetStringWidth(r)
		d.SetXY(tx, y)
		d.Fpdf.CellFormat(rw, h, r, "", 0, "L", false, 0, "")
		tx += rw
	}
	d.SetCellMargin(saved)
	d.Fpdf.SetFont(pdfFont, "", d.size)
	if ln == 1 {
		left, _, _, _ := d.GetMargins()
		d.SetXY(left, y+h)
	} else {
		d.SetXY(x+w, y)
	}
}

// MultiCell writes txt wrapped to width w, line by line.
func (d *doc) MultiCell(w, h float64, txt, border, align string, fill bool) {
	var line []rune
	lineW := 0.0
	flush := func() {
		d.CellFormat(w, h, string(line), border, 1, align, fill, 0, "")
		line, lineW = line[:0], 0
	}
	for _, r := range txt {
		rw := d.width(string(r))
		if lineW+rw > w-2 && len(line) > 0 {
			flush()
		}
		line = append(line, r)
		lineW += rw
	}
	if len(line) > 0 {
		flush()
	}
}

// WriteBoardPDF writes a village's 岗位监督栏 as one A4 landscape page (more
// when the village has many groups).
func WriteBoardPDF(w io.Writer, b *Board) error {
	pdf := newPDF("L")
	pdf.SetTitle(b.Village+"岗位监督栏", true)
	pdf.AddPage()
	pw, _ := pdf.GetPageSize()
	width := pw - 24
	pdf.SetFont(pdfFont, "", 24)
	pdf.SetTextColor(183, 28, 28)
	pdf.CellFormat(width, 14, b.Village+"岗位监督栏", "", 1, "C", false, 0, "")
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont(pdfFont, "", 11)
	pdf.CellFormat(width, 7, strings.TrimSpace(b.City+" "+b.Town+" "+b.Village)+"　　岗位在村　责任在村　工作在村", "", 1, "C", false, 0, "")
	pdf.Ln(3)

	section := func(title string, people []Person) {
		if len(people) == 0 {
			return
		}
		pdf.SetFont(pdfFont, "", 13)
		pdf.SetFillColor(234, 241, 251)
		pdf.CellFormat(width, 7, title, "1", 1, "L", true, 0, "")
		pdf.SetFont(pdfFont, "", 11)
		cols := []float64{width * 0.28, width * 0.18, width * 0.2, width * 0.34}
		for _, p := range people {
			for i, v := range []string{p.Title, p.Name, p.Phone, p.Unit} {
				pdf.CellFormat(cols[i], 6, v, "1", 0, "L", false, 0, "")
			}
			pdf.Ln(-1)
		}
		pdf.Ln(1.5)
	}
	section("联系领导 / Leads", b.Leads)
	section("村两委 / Village committee", b.Committee)
	section("驻村工作队 / Work team", b.Team)

	pdf.SetFont(pdfFont, "", 13)
	pdf.SetFillColor(234, 241, 251)
	pdf.CellFormat(width, 7, "包社干部（第一社长）/ Group cadres", "1", 1, "L", true, 0, "")
	pdf.SetFont(pdfFont, "", 11)
	cols := []float64{width * 0.12, width * 0.12, width * 0.12, width * 0.28, width * 0.36}
	for i, h := range []string{"社", "户数", "人口", "包社干部", "联系电话"} {
		pdf.CellFormat(cols[i], 6, h, "1", 0, "C", false, 0, "")
	}
	pdf.Ln(-1)
	for _, g := range b.Groups {
		var names, phones []string
		for _, p := range g.Cadres {
			names, phones = append(names, p.Name), append(phones, p.Phone)
		}
		for i, v := range []string{g.Name, fmt.Sprint(g.Households), fmt.Sprint(g.People), strings.Join(names, "、"), strings.Join(phones, "、")} {
			pdf.CellFormat(cols[i], 6, v, "1", 0, "C", false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.Ln(3)
	pdf.SetFont(pdfFont, "", 9)
	pdf.CellFormat(width, 6, "制表日期 "+b.Made.In(China).Format("2006-01-02")+"　　欢迎群众监督", "", 1, "R", false, 0, "")
	return finish(pdf, w)
}

// WriteCardsPDF writes 帮扶明白卡, two to an A4 page, cut along the middle.
func WriteCardsPDF(w io.Writer, cards []Card) error {
	pdf := newPDF("P")
	pdf.SetTitle("帮扶明白卡", true)
	pw, ph := pdf.GetPageSize()
	width := pw - 24
	half := (ph - 24) / 2
	for i, c := range cards {
		top := 12.0
		if i%2 == 0 {
			pdf.AddPage()
		} else {
			top += half
			pdf.SetDrawColor(160, 160, 160)
			pdf.SetDashPattern([]float64{2, 2}, 0)
			pdf.Line(6, top-1, pw-6, top-1)
			pdf.SetDashPattern([]float64{}, 0)
			pdf.SetDrawColor(0, 0, 0)
		}
		pdf.SetXY(12, top+2)
		pdf.SetFont(pdfFont, "", 18)
		pdf.SetTextColor(183, 28, 28)
		pdf.CellFormat(width, 10, "帮扶明白卡", "", 1, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont(pdfFont, "", 11)
		pdf.CellFormat(width, 7, fmt.Sprintf("%s %s %s　户主：%s　%s　%d 人　耕地 %.1f 亩", c.Town, c.Village, c.Group, c.Head, c.Status, c.Size, c.Farmland), "B", 1, "L", false, 0, "")
		pdf.Ln(1)
		for _, p := range c.Helpers {
			pdf.CellFormat(width*0.3, 7, p.Title, "1", 0, "L", false, 0, "")
			pdf.CellFormat(width*0.2, 7, p.Name, "1", 0, "L", false, 0, "")
			pdf.CellFormat(width*0.2, 7, p.Phone, "1", 0, "L", false, 0, "")
			pdf.CellFormat(width*0.3, 7, p.Unit, "1", 1, "L", false, 0, "")
		}
		if len(c.Helpers) == 0 {
			pdf.CellFormat(width, 7, "（尚未安排帮扶干部）", "1", 1, "L", false, 0, "")
		}
		pdf.Ln(2)
		if c.Goal != "" {
			pdf.MultiCell(width, 6, "帮扶目标："+c.Goal, "", "L", false)
		}
		for j, m := range c.Measures {
			if pdf.GetY() > top+half-16 {
				pdf.CellFormat(width, 6, fmt.Sprintf("...另有 %d 项措施", len(c.Measures)-j), "", 1, "L", false, 0, "")
				break
			}
			pdf.MultiCell(width, 6, fmt.Sprintf("%d. %s", j+1, m), "", "L", false)
		}
		pdf.SetXY(12, top+half-10)
		pdf.SetFont(pdfFont, "", 9)
		pdf.CellFormat(width, 6, "有困难请及时联系帮扶干部", "", 0, "R", false, 0, "")
	}
	if len(cards) == 0 {
		pdf.AddPage()
		pdf.SetFont(pdfFont, "", 12)
		pdf.CellFormat(width, 10, "没有农户 / no households", "", 1, "C", false, 0, "")
	}
	return finish(pdf, w)
}

func finish(pdf *doc, w io.Writer) error {
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("office: pdf: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("office: pdf: %w", err)
	}
	return nil
}
