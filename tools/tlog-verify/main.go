// Command tlog-verify checks a log written by Writ with Go's reference
// implementation of transparency logs (golang.org/x/mod/sumdb/tlog and
// sumdb/note), independently of Writ's own code.
//
// It verifies the checkpoint's signature, recomputes the tree hash from the
// hash tiles (c2sp.org/tlog-tiles), checks every entry in the entry bundles
// against its authenticated leaf hash (and proves the first and last of each
// bundle included), and checks the inclusion and consistency
// proofs that Writ produced, given in a JSON file.
//
// Build with Debian's packages (golang-go, golang-golang-x-mod-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o tlog-verify .
//
// Usage: tlog-verify -dir DIR -vkey VKEY [-proofs FILE]
// Exit status 0 when everything verifies, 1 otherwise, 2 on bad usage.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

// indexPath writes a tile index as C2SP does: 3-digit groups, all but the
// last prefixed with "x".
func indexPath(n int64) string {
	groups := []string{fmt.Sprintf("%03d", n%1000)}
	for n >= 1000 {
		n /= 1000
		groups = append([]string{fmt.Sprintf("x%03d", n%1000)}, groups...)
	}
	return strings.Join(groups, "/")
}

// c2spPath maps a Go tile to its C2SP tlog-tiles path. Go's own Tile.Path
// is the checksum database's layout (tile/8/0/...), which C2SP changed.
func c2spPath(t tlog.Tile) string {
	var p string
	if t.L == -1 {
		p = "tile/entries/" + indexPath(t.N)
	} else {
		p = "tile/" + strconv.Itoa(t.L) + "/" + indexPath(t.N)
	}
	if t.W < 1<<tileHeight {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return tileHeight }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// parseCheckpoint reads a C2SP checkpoint body: origin, size, base64 root,
// then optional extension lines. (tlog.ParseTree accepts only the Go
// checksum database's origin.)
func parseCheckpoint(text string) (origin string, tree tlog.Tree, err error) {
	if !strings.HasSuffix(text, "\n") {
		return "", tree, errors.New("checkpoint does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return "", tree, errors.New("checkpoint needs origin, size and root")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", tree, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return "", tree, fmt.Errorf("bad root hash %q", lines[2])
	}
	tree.N = n
	copy(tree.Hash[:], root)
	return lines[0], tree, nil
}

func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated entry bundle")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry bundle")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

type proofsFile struct {
	Inclusion []struct {
		Index    int64    `json:"index"`
		Size     int64    `json:"size"`
		LeafHash string   `json:"leaf_hash"`
		Root     string   `json:"root"`
		Proof    []string `json:"proof"`
	} `json:"inclusion"`
	Consistency []struct {
		Old     int64    `json:"old"`
		New     int64    `json:"new"`
		OldRoot string   `json:"old_root"`
		NewRoot string   `json:"new_root"`
		Proof   []string `json:"proof"`
	} `json:"consistency"`
}

func hash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("bad hash %q", s)
	}
	copy(h[:], b)
	return h, nil
}

func hashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := hash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func checkProofs(file string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var pf proofsFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pf.Inclusion {
		leaf, err := hash(p.LeafHash)
		if err != nil {
			return n, err
		}
		root, err := hash(p.Root)
		if err != nil {
			return n, err
		}
		proof, err := hashes(p.Proof)
		if err != nil {
			return n, err
		}
		if err := tlog.CheckRecord(tlog.RecordProof(proof), p.Size, root, p.Index, leaf); err != nil {
			return n, fmt.Errorf("inclusion proof of %d in %d: %v", p.Index, p.Size, err)
		}
		n++
	}
	for _, p := range pf.Consistency {
		oldRoot, err := hash(p.OldRoot)
		if err != nil {
			return n, err
		}
		newRoot, err := hash(p.NewRoot)
		if err != nil {
			return n, err
		}
		proof, err := hashes(p.Proof)
		if err != nil {
			return n, err
		}
		if err := tlog.CheckTree(tlog.TreeProof(proof), p.New, newRoot, p.Old, oldRoot); err != nil {
			return n, fmt.Errorf("consistency proof from %d to %d: %v", p.Old, p.New, err)
		}
		n++
	}
	return n, nil
}

func run(dir, vkey, proofs string) error {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return fmt.Errorf("checkpoint signature: %v", err)
	}
	origin, tree, err := parseCheckpoint(n.Text)
	if err != nil {
		return err
	}
	if origin != verifier.Name() {
		return fmt.Errorf("checkpoint origin %q is not the key's name %q", origin, verifier.Name())
	}

	tiles := dirTiles{dir}
	reader := tlog.TileHashReader(tree, tiles)
	th, err := tlog.TreeHash(tree.N, reader)
	if err != nil {
		return fmt.Errorf("tree hash from tiles: %v", err)
	}
	if th != tree.Hash {
		return fmt.Errorf("tree hash from tiles %v differs from the checkpoint's %v", th, tree.Hash)
	}

	// Every entry: its leaf hash from the bundle, proven included.
	for start := int64(0); start < tree.N; start += 1 << tileHeight {
		w := tree.N - start
		if w > 1<<tileHeight {
			w = 1 << tileHeight
		}
		bundle := tlog.Tile{H: tileHeight, L: -1, N: start >> tileHeight, W: int(w)}
		data, err := tiles.ReadTiles([]tlog.Tile{bundle})
		if err != nil {
			return err
		}
		entries, err := splitBundle(data[0])
		if err != nil {
			return fmt.Errorf("%s: %v", c2spPath(bundle), err)
		}
		if int64(len(entries)) != w {
			return fmt.Errorf("%s holds %d entries, expected %d", c2spPath(bundle), len(entries), w)
		}
		// The leaf hashes, authenticated against the tree hash through the
		// tiles, must be those of the entries.
		indexes := make([]int64, len(entries))
		for i := range entries {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leaves, err := reader.ReadHashes(indexes)
		if err != nil {
			return fmt.Errorf("leaf hashes of %s: %v", c2spPath(bundle), err)
		}
		for i, e := range entries {
			if tlog.RecordHash(e) != leaves[i] {
				return fmt.Errorf("entry %d does not match its leaf hash", start+int64(i))
			}
		}
		// And a proof of inclusion for the first and last entry of each bundle.
		for _, index := range []int64{start, start + w - 1} {
			proof, err := tlog.ProveRecord(tree.N, index, reader)
			if err != nil {
				return fmt.Errorf("proving entry %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(entries[index-start])); err != nil {
				return fmt.Errorf("entry %d: %v", index, err)
			}
		}
	}
	checked := 0
	if proofs != "" {
		checked, err = checkProofs(proofs)
		if err != nil {
			return err
		}
	}
	fmt.Printf("ok: %s size %d root %s; %d entries checked; %d Writ proofs checked\n",
		origin, tree.N, base64.StdEncoding.EncodeToString(tree.Hash[:]), tree.N, checked)
	return nil
}

func main() {
	dir := flag.String("dir", "", "local copy of the log's prefix (DIR/checkpoint, DIR/tile/...)")
	vkey := flag.String("vkey", "", "the log's verifier key (origin+hash+base64)")
	proofs := flag.String("proofs", "", "JSON file of Writ's inclusion and consistency proofs")
	flag.Parse()
	if *dir == "" || *vkey == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dir, strings.TrimSpace(*vkey), *proofs); err != nil {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "tlog-verify: %v\n", err)
		os.Stderr.Write(buf.Bytes())
		os.Exit(1)
	}
}
