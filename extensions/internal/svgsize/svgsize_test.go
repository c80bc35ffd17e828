package svgsize

import (
	"errors"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	for _, c := range []struct {
		svg  string
		want Size
		err  error
	}{
		{`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="16"/>`, Size{24, 16}, nil},
		{`<?xml version="1.0"?><!-- c --><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x"><svg width="2in" height="1in">`, Size{192, 96}, nil},
		{`<svg viewBox="0 0 48 32"></svg>`, Size{48, 32}, nil},
		{`<svg width="100%" height="100%" viewBox="0,0,10,20"/>`, Size{10, 20}, nil},
		{`<svg width="30" viewBox="0 0 10 20"/>`, Size{30, 60}, nil},
		{`<svg width="12.5pt" height="3mm"/>`, Size{17, 11}, nil},
		{`<svg:svg xmlns:svg="http://www.w3.org/2000/svg" height="5" width="7"/>`, Size{7, 5}, nil},
		{`<svg/>`, Size{}, nil},
		{`<svg width="-3" height="4"/>`, Size{}, nil},
		{`<html><svg width="1" height="1"/></html>`, Size{}, ErrNotSVG},
		{`just text`, Size{}, ErrNotSVG},
	} {
		got, err := Read(strings.NewReader(c.svg))
		if got != c.want || (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: %+v %v, want %+v %v", c.svg, got, err, c.want, c.err)
		}
	}
	if !Looks([]byte("\xef\xbb\xbf<?xml version='1.0'?>\n<svg>")) || Looks([]byte("<html><body>")) || Looks([]byte("PNG")) {
		t.Error("Looks")
	}
}
