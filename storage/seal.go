package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"courtside"
)

// Sealer encrypts victim PII at rest with AES-256-GCM. The additional data binds each
// ciphertext to its place (table|column|row id), so a ciphertext copied to another row does not
// open. A sealed value is: key id (8 bytes) | nonce (12 bytes) | ciphertext and tag.
//
// A Sealer seals with its current key and opens values of the current key or of any older key
// added with WithOlder, chosen by the key id in front of the ciphertext: during a key rotation
// (RotateKeys) a database that holds values under both keys still reads everything.
type Sealer struct {
	aead  cipher.AEAD
	keyID [8]byte
	older map[[8]byte]cipher.AEAD

	// indexKey keys the blind index (BlindIndex); olderIndex holds the index keys of the
	// older keys, by key id.
	indexKey   []byte
	olderIndex map[[8]byte][]byte
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("storage: encryption key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("storage: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("storage: gcm: %w", err)
	}
	return &Sealer{aead: aead, keyID: KeyID(key), indexKey: blindIndexKey(key)}, nil
}

// blindIndexKey derives the key of the blind index from the encryption key:
// HMAC-SHA256(key, "courtside blind index"). It is a different key from the one that seals, so
// an index value says nothing about the ciphertexts.
func blindIndexKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("courtside blind index"))
	return m.Sum(nil)
}

// NormalizeContact returns the form of a contact address the blind index is computed over:
// e-mail addresses lower-cased, phone numbers (SMS) reduced to their E.164 digits, webhook URLs
// trimmed.
func NormalizeContact(channel courtside.Channel, address string) string {
	address = strings.TrimSpace(address)
	switch channel {
	case courtside.ChannelEmail:
		return strings.ToLower(address)
	case courtside.ChannelSMS:
		var b strings.Builder
		for _, r := range address {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	return address
}

// BlindIndex returns the blind index of a contact address under the current key: key id (8
// bytes) | HMAC-SHA256(index key, channel | 0 | normalised address). Equal addresses (after
// NormalizeContact) have equal indexes, so a lookup can match them without the address being
// stored in the clear; without the key the index cannot be computed or reversed by guessing.
func (s *Sealer) BlindIndex(channel courtside.Channel, address string) []byte {
	return blindIndex(s.keyID, s.indexKey, channel, address)
}

// blindIndexes returns the blind index of an address under the current key and under every
// older key, so a lookup during a key rotation finds rows not yet re-indexed.
func (s *Sealer) blindIndexes(channel courtside.Channel, address string) [][]byte {
	out := [][]byte{s.BlindIndex(channel, address)}
	for id, k := range s.olderIndex {
		out = append(out, blindIndex(id, k, channel, address))
	}
	return out
}

func blindIndex(keyID [8]byte, indexKey []byte, channel courtside.Channel, address string) []byte {
	m := hmac.New(sha256.New, indexKey)
	m.Write([]byte(channel))
	m.Write([]byte{0})
	m.Write([]byte(NormalizeContact(channel, address)))
	return m.Sum(keyID[:len(keyID):len(keyID)])
}

// KeyID returns the id stored in front of values sealed with key: the first 8 bytes of
// SHA-256("courtside key id\x00" + key). It identifies a key without revealing it.
func KeyID(key []byte) [8]byte {
	var id [8]byte
	sum := sha256.Sum256(append([]byte("courtside key id\x00"), key...))
	copy(id[:], sum[:8])
	return id
}

// KeyID returns the id of the Sealer's current key.
func (s *Sealer) KeyID() [8]byte { return s.keyID }

// WithOlder returns a Sealer that seals with s's current key and also opens values sealed with
// the older keys (and with the older keys of the given Sealers).
func (s *Sealer) WithOlder(older ...*Sealer) *Sealer {
	out := &Sealer{aead: s.aead, keyID: s.keyID, older: map[[8]byte]cipher.AEAD{},
		indexKey: s.indexKey, olderIndex: map[[8]byte][]byte{}}
	add := func(o *Sealer) {
		for id, a := range o.older {
			if id != out.keyID {
				out.older[id] = a
			}
		}
		for id, k := range o.olderIndex {
			if id != out.keyID {
				out.olderIndex[id] = k
			}
		}
		if o.keyID != out.keyID {
			out.older[o.keyID] = o.aead
			out.olderIndex[o.keyID] = o.indexKey
		}
	}
	add(s)
	for _, o := range older {
		add(o)
	}
	return out
}

// SealedWith returns the key id a sealed value carries, and false for an empty or short value.
func SealedWith(sealed []byte) ([8]byte, bool) {
	var id [8]byte
	if len(sealed) < len(id) {
		return id, false
	}
	copy(id[:], sealed)
	return id, true
}

// ParseKey decodes a key given as 64 hex digits or as standard base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("key must be 32 bytes, as 64 hex digits or base64")
}

// LoadOrCreateKeyFile reads the key in path, or creates the file with a new random key (mode
// 0600) when it does not exist.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("storage: key file %s: %w", path, err)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("storage: key file: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("storage: new key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage: create key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: write key file: %w", err)
	}
	return key, f.Close()
}

// Seal encrypts plaintext for the given place. An empty plaintext seals to nil.
func (s *Sealer) Seal(plaintext, table, column string, rowID int64) ([]byte, error) {
	if plaintext == "" {
		return nil, nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("storage: nonce: %w", err)
	}
	out := make([]byte, 0, len(s.keyID)+len(nonce)+len(plaintext)+s.aead.Overhead())
	out = append(out, s.keyID[:]...)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, []byte(plaintext), additionalData(table, column, rowID)), nil
}

// Open decrypts a sealed value for the given place. nil opens to "".
func (s *Sealer) Open(sealed []byte, table, column string, rowID int64) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	aead := s.aead
	if id, ok := SealedWith(sealed); ok && id != s.keyID {
		if aead = s.older[id]; aead == nil {
			return "", errors.New("storage: sealed with another key")
		}
	}
	n := len(s.keyID) + aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return "", errors.New("storage: sealed value too short")
	}
	plain, err := aead.Open(nil, sealed[len(s.keyID):n], sealed[n:], additionalData(table, column, rowID))
	if err != nil {
		return "", fmt.Errorf("storage: open sealed %s.%s: %w", table, column, err)
	}
	return string(plain), nil
}

func additionalData(table, column string, rowID int64) []byte {
	return []byte(fmt.Sprintf("%s|%s|%d", table, column, rowID))
}
