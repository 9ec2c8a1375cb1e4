package initramfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FindKernel takes the newest vmlinuz of the cache's extracted package with
// its modules, an explicit path before $VMTEST_KERNEL, and says what to do
// when there is none.
func TestFindKernel(t *testing.T) {
	root := t.TempDir()
	t.Setenv("NICBED_CACHE", filepath.Join(root, "cache"))
	t.Setenv("VMTEST_KERNEL", "")
	if _, err := FindKernel(root, ""); !errors.Is(err, ErrNoKernel) {
		t.Fatalf("empty cache: %v, want ErrNoKernel", err)
	}
	k := filepath.Join(root, "cache", "kernel")
	for _, v := range []string{"6.1.0-9-amd64", "6.1.0-57-amd64"} {
		os.MkdirAll(filepath.Join(k, "boot"), 0o755)
		os.WriteFile(filepath.Join(k, "boot", "vmlinuz-"+v), []byte("x"), 0o644)
		os.MkdirAll(filepath.Join(k, "lib", "modules", v, "kernel"), 0o755)
	}
	got, err := FindKernel(root, "")
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by name, 6.1.0-9 sorts after 6.1.0-57: the last one wins.
	if got.Version != "6.1.0-9-amd64" || got.Modules != filepath.Join(k, "lib", "modules", "6.1.0-9-amd64") {
		t.Errorf("FindKernel = %+v", got)
	}
	other := filepath.Join(root, "vmlinuz-other")
	os.WriteFile(other, []byte("x"), 0o644)
	t.Setenv("VMTEST_KERNEL", other)
	if got, err := FindKernel(root, ""); err != nil || got.Image != other || got.Modules != "" {
		t.Errorf("VMTEST_KERNEL: %+v, %v", got, err)
	}
	if err := Build(Options{Root: root, Kernel: got}); err == nil {
		t.Error("Build with a kernel without modules did not fail")
	}
	if _, err := FindKernel(root, filepath.Join(root, "nope")); err == nil {
		t.Error("a missing --kernel was accepted")
	}
}

func TestProjectRoot(t *testing.T) {
	r, err := ProjectRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "initramfs", "image.go")); err != nil {
		t.Errorf("root %s: %v", r, err)
	}
	if _, err := ProjectRoot(t.TempDir()); err == nil {
		t.Error("a folder outside the checkout was taken for the root")
	}
}
