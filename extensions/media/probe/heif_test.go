package probe_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cairnfs/cairn/extensions/media/probe"
)

// mkbox makes an ISO-BMFF box.
func mkbox(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// tinyTIFF is an EXIF block with Make "TestMake" and an orientation.
func tinyTIFF(orientation int) []byte {
	b := []byte("MM\x00*")
	b = append(b, u32(8)...)
	b = append(b, u16(2)...)
	b = append(b, u16(0x010F)...)
	b = append(b, u16(2)...)
	b = append(b, u32(9)...)
	b = append(b, u32(8+2+24+4)...)
	b = append(b, u16(0x0112)...)
	b = append(b, u16(3)...)
	b = append(b, u32(1)...)
	b = append(b, u16(orientation)...)
	b = append(b, 0, 0)
	b = append(b, u32(0)...)
	return append(b, "TestMake\x00"...)
}

// heic builds a HEIF file whose primary item (1) is w×h with the given
// transform properties ("irot" angle or "imir" axis, in order), and an Exif
// item (2) with the given EXIF orientation.
func heic(w, h int, exifOrientation int, transforms ...[2]any) []byte {
	ftyp := mkbox("ftyp", []byte("heic"), u32(0), []byte("mif1heic"))
	exif := append(append(u32(6), "Exif\x00\x00"...), tinyTIFF(exifOrientation)...)
	coded := []byte("not really HEVC")
	props := [][]byte{mkbox("ispe", u32(0), u32(w), u32(h))}
	for _, tr := range transforms {
		props = append(props, mkbox(tr[0].(string), []byte{byte(tr[1].(int))}))
	}
	assoc := []byte{}
	for i := range props {
		assoc = append(assoc, byte(0x80|(i+1)))
	}
	meta := func(mdat int) []byte {
		return mkbox("meta", u32(0),
			mkbox("hdlr", u32(0), u32(0), []byte("pict"), make([]byte, 12), []byte{0}),
			mkbox("pitm", u32(0), u16(1)),
			mkbox("iinf", u32(0), u16(2),
				mkbox("infe", []byte{2, 0, 0, 0}, u16(1), u16(0), []byte("hvc1\x00")),
				mkbox("infe", []byte{2, 0, 0, 0}, u16(2), u16(0), []byte("Exif\x00"))),
			mkbox("iloc", u32(0), []byte{0x44, 0x00}, u16(2),
				u16(1), u16(0), u16(1), u32(mdat), u32(len(coded)),
				u16(2), u16(0), u16(1), u32(mdat+len(coded)), u32(len(exif))),
			mkbox("iprp", mkbox("ipco", props...),
				mkbox("ipma", u32(0), u32(1), u16(1), []byte{byte(len(assoc))}, assoc)))
	}
	m := meta(0)
	m = meta(len(ftyp) + len(m) + 8)
	return bytes.Join([][]byte{ftyp, m, mkbox("mdat", coded, exif)}, nil)
}

func TestHEIF(t *testing.T) {
	for _, c := range []struct {
		name       string
		exif       int
		transforms [][2]any
		want       int
	}{
		{"no transform: EXIF", 6, nil, 6},
		{"irot 1 (90° anticlockwise)", 1, [][2]any{{"irot", 1}}, 8},
		{"irot 2", 1, [][2]any{{"irot", 2}}, 3},
		{"irot 3 overrides EXIF", 1, [][2]any{{"irot", 3}}, 6},
		{"imir 0 (vertical axis)", 1, [][2]any{{"imir", 0}}, 2},
		{"imir 1 (horizontal axis)", 1, [][2]any{{"imir", 1}}, 4},
		{"irot 1 then imir 0", 1, [][2]any{{"irot", 1}, {"imir", 0}}, 7},
		{"irot 3 then imir 0", 1, [][2]any{{"irot", 3}, {"imir", 0}}, 5},
		{"irot 0", 8, [][2]any{{"irot", 0}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := heic(4032, 3024, c.exif, c.transforms...)
			info, err := probe.Probe("x.heic", "", bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != 4032 || info.Height != 3024 || info.Orientation != c.want || info.CameraMake != "TestMake" {
				j, _ := json.Marshal(info)
				t.Errorf("got %s, want 4032×3024, orientation %d, make TestMake", j, c.want)
			}
		})
	}
}

// TestHEIFExiftool checks the hand-made HEIF file against exiftool.
func TestHEIFExiftool(t *testing.T) {
	needExiftool(t)
	p := filepath.Join(t.TempDir(), "x.heic")
	if err := os.WriteFile(p, heic(640, 480, 6), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("exiftool", "-j", "-n", "-ImageSize", "-Make", "-Orientation", p).Output()
	if err != nil {
		t.Fatal(err)
	}
	var tags []struct {
		ImageSize   string
		Make        string
		Orientation int
	}
	if err := json.Unmarshal(out, &tags); err != nil || len(tags) != 1 {
		t.Fatalf("exiftool: %s %v", out, err)
	}
	info, err := probeFile(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if tags[0].ImageSize != "640 480" || tags[0].Make != "TestMake" || info.Orientation != tags[0].Orientation || info.Width != 640 {
		t.Errorf("probe %+v, exiftool %+v", info, tags[0])
	}
}
