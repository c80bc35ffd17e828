package pipeline

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// sizeUnits are the multipliers ParseSize accepts (case-insensitive): SI units are powers of
// 1000, IEC units ("KiB") powers of 1024.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15, "eb": 1e18,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50, "eib": 1 << 60,
}

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// ParseSize parses a byte size: a whole number of bytes ("4096"), or a number and a unit
// ("100 KB", "100KiB", "1.5 MB", "2GB"). KB … EB are powers of 1000; KiB … EiB powers of
// 1024; B is bytes; units are case-insensitive. Fractions round to the
// nearest byte.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 64 {
		return 0, errors.New("too long for a size")
	}
	m := sizeRE.FindStringSubmatch(t)
	if m == nil {
		return 0, fmt.Errorf("want a number and a unit such as \"100 KB\" or \"1.5 MiB\"")
	}
	mult, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q (want B, KB, MB, GB, TB, PB, EB, KiB, MiB, GiB, TiB, PiB or EiB)", m[2])
	}
	r, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("%q is not a number", m[1])
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	// Round half up: floor(r + 1/2).
	r.Add(r, big.NewRat(1, 2))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() {
		return 0, errors.New("too large (more than 8 EiB)")
	}
	return n.Int64(), nil
}

// FormatSize writes n bytes in the largest IEC unit that keeps it readable ("256 MiB",
// "1.5 KiB", "100 B"); ParseSize reads it back to within rounding.
func FormatSize(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	u := -1
	for math.Abs(f) >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + " " + units[u]
}
