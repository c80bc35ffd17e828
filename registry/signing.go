package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/zeebo/blake3"

	"github.com/cairnfs/cairn/registry/cairnpkg"
)

// ErrBadIndexSignature: index.json carries a signature that is malformed or does not verify.
var ErrBadIndexSignature = errors.New("bad registry index signature")

// indexSigContext is prepended to the signed bytes, so that an index signature can never be
// taken for a package signature or anything else signed by the same key.
const indexSigContext = "cairn registry index v1\n"

// IndexSignature is the "signature" member of a signed index (FORMAT.md §6.1): an Ed25519
// signature by the registry's key over the index's canonical form without this member.
type IndexSignature struct {
	Algorithm string            `json:"algorithm"`
	KeyID     string            `json:"key_id"`
	PublicKey ed25519.PublicKey `json:"public_key"` // base64, 32 bytes
	Signature []byte            `json:"signature"`  // base64, 64 bytes
}

// SignIndex signs idx with key: it sets idx.Signature and returns the encoded, signed index.
// idx must be valid and have a Version ≥ 1 and an Expires time (Validate checks both).
func SignIndex(idx *Index, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signing the index: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub := key.Public().(ed25519.PublicKey)
	// Validate with a placeholder signature, so the signed-index rules (version, expires) apply.
	idx.Signature = &IndexSignature{Algorithm: cairnpkg.AlgEd25519, KeyID: cairnpkg.KeyID(pub), PublicKey: pub}
	if err := idx.Validate(); err != nil {
		idx.Signature = nil
		return nil, fmt.Errorf("signing the index: %w", err)
	}
	idx.Signature = nil
	data, err := idx.Encode()
	if err != nil {
		return nil, fmt.Errorf("signing the index: %w", err)
	}
	canon, err := canonicalIndex(data)
	if err != nil {
		return nil, fmt.Errorf("signing the index: %w", err)
	}
	idx.Signature = &IndexSignature{
		Algorithm: cairnpkg.AlgEd25519,
		KeyID:     cairnpkg.KeyID(pub),
		PublicKey: pub,
		Signature: ed25519.Sign(key, append([]byte(indexSigContext), canon...)),
	}
	idx.digest = digest(canon)
	return idx.Encode()
}

// canonicalIndex is what an index signature covers: the top-level members of the JSON object
// in data except "signature", sorted by name, each value with insignificant whitespace removed
// (json.Compact), as one compact object. Members keep their bytes otherwise, so a reader that
// does not know a member still verifies it.
func canonicalIndex(data []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.New("the index is not a JSON object")
	}
	delete(top, "signature")
	names := make([]string, 0, len(top))
	for k := range top {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		if err := json.Compact(&b, top[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// verifyIndex checks the signature of the raw index data, if it has one, and returns the bytes
// to decode: the canonical form that was signed (so what is used is exactly what was signed),
// or data itself when unsigned.
func verifyIndex(data []byte) ([]byte, *IndexSignature, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	raw, signed := top["signature"]
	canon, err := canonicalIndex(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidIndex, err)
	}
	if !signed {
		return data, nil, nil
	}
	var sig IndexSignature
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sig); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadIndexSignature, err)
	}
	switch {
	case sig.Algorithm != cairnpkg.AlgEd25519:
		return nil, nil, fmt.Errorf("%w: algorithm %q (want %s)", ErrBadIndexSignature, sig.Algorithm, cairnpkg.AlgEd25519)
	case len(sig.PublicKey) != ed25519.PublicKeySize || len(sig.Signature) != ed25519.SignatureSize:
		return nil, nil, fmt.Errorf("%w: want a %d-byte key and a %d-byte signature", ErrBadIndexSignature, ed25519.PublicKeySize, ed25519.SignatureSize)
	case sig.KeyID != cairnpkg.KeyID(sig.PublicKey):
		return nil, nil, fmt.Errorf("%w: key_id %s is not the id of the key (%s)", ErrBadIndexSignature, sig.KeyID, cairnpkg.KeyID(sig.PublicKey))
	case !ed25519.Verify(sig.PublicKey, append([]byte(indexSigContext), canon...), sig.Signature):
		return nil, nil, fmt.Errorf("%w: it does not verify with key %s: the index was changed after signing", ErrBadIndexSignature, sig.KeyID)
	}
	return canon, &sig, nil
}

func digest(b []byte) string {
	sum := blake3.Sum256(b)
	return hex.EncodeToString(sum[:])
}
