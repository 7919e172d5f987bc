package domain

import "time"

// QuietDays is how many days a problem may wait at the village or the town
// without anyone moving it before the screens say "no response for N days"
// (N 天无回应). A week: the township holds its weekly meeting on problems
// reported from the villages, so a problem still unanswered after one has
// been missed. It is a fixed figure, not a village's rule: unlike the visit
// threshold it measures the leaders, not the cadre who visits.
const QuietDays = 7

// Quiet returns how many whole days a problem has waited since it last moved
// (since, the time of its last step, or when it was found) at now, and
// whether that is a wait someone should answer: the problem sits at the
// village or the town and has not moved for QuietDays or more. An open or
// resolved problem is never "without response": it waits for its own cadre,
// or for nobody.
func Quiet(p *Problem, since, now time.Time) (days int, quiet bool) {
	if since.IsZero() {
		since = p.Created
	}
	if d := now.Sub(since); d > 0 {
		days = int(d / (24 * time.Hour))
	}
	waiting := p.Status == ProblemVillage || p.Status == ProblemTown
	return days, waiting && !p.Deleted && days >= QuietDays
}
