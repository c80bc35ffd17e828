// Package svgsize reads the intrinsic size of an SVG image from its root <svg> element (width,
// height, viewBox) without rendering it; shared by the first-party media and thumbnail
// extensions.
package svgsize
