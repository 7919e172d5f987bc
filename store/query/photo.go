package query

import (
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Photos returns the live photos attached to each record in of (a visit, a
// problem or a measure), in the order they were added: what the card, the
// problem screen and the plan review show as thumbnails.
func Photos(db *store.DB, of ...uuid.UUID) (map[uuid.UUID][]*domain.Photo, error) {
	out := map[uuid.UUID][]*domain.Photo{}
	err := view(db, func(r *reader) error {
		for _, id := range of {
			scanRecords(r, "photo_of", id[:], domain.KindPhoto, 0, func(rec domain.Record) {
				out[id] = append(out[id], rec.(*domain.Photo))
			})
		}
		return nil
	})
	return out, err
}
