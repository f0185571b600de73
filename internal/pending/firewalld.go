package pending

import (
	"context"
	"fmt"

	"github.com/portwall/portwall/internal/fwdlive"
)

// TargetFirewalld marks a transaction that changed firewalld's
// configuration (portwall apply --target firewalld).
const TargetFirewalld = "firewalld"

// rollbackFirewalld puts back portwall's firewalld files and default zone
// from the snapshot, and reloads firewalld.
func (s *Store) rollbackFirewalld(why string) (string, error) {
	var snap fwdlive.Snapshot
	if err := readJSON(s.path("snapshot.json"), &snap); err != nil {
		return "", fmt.Errorf("reading the snapshot: %w", err)
	}
	if err := fwdlive.Restore(context.Background(), &snap); err != nil {
		return "", fmt.Errorf("%s, and rolling back failed: %w", why, err)
	}
	return why, nil
}
