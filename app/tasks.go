package app

import (
	"sync"

	"fyne.io/fyne/v2"
)

// tasks runs the app's disk and network work off the UI goroutine. Work
// returns the function that shows its result, which runs on the UI goroutine.
// wait lets tests (and shutdown) wait until every piece of work started so far,
// and the UI updates it asked for, have finished.
//
// By default results go through fyne.DoAndWait. Fyne's test driver, though,
// runs fyne.Do on the goroutine that calls it, so that results would touch
// widgets from many goroutines at once. With a queue (Options.DeferUI) results
// wait in it instead, and wait runs them on its caller's goroutine, which in a
// test is the test's: one goroutine owns the widgets, as on a real device.
type tasks struct {
	wg    sync.WaitGroup
	queue chan func() // nil: results go through fyne.DoAndWait
	// shown, if not nil, runs on the UI goroutine after each result: the app
	// asks for a new frame there (see App.repaint).
	shown func()
}

// run calls work in a new goroutine and then, if work returns a function,
// calls that function on the UI goroutine.
func (t *tasks) run(work func() func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if show := work(); show != nil {
			t.ui(show)
		}
	}()
}

// ui runs f on the UI goroutine and returns when it has run.
func (t *tasks) ui(f func()) {
	if t.shown != nil {
		g := f
		f = func() {
			g()
			t.shown()
		}
	}
	if t.queue == nil {
		fyne.DoAndWait(f)
		return
	}
	done := make(chan struct{})
	t.queue <- func() {
		defer close(done)
		f()
	}
	<-done
}

// wait blocks until all work started with run has finished, including work
// started by that work. With a queue it runs the queued results meanwhile.
func (t *tasks) wait() {
	if t.queue == nil {
		t.wg.Wait()
		return
	}
	idle := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(idle)
	}()
	for {
		select {
		case f := <-t.queue:
			f()
		case <-idle:
			return
		}
	}
}

// latest runs a save function for the newest value handed to it, at most one at
// a time, dropping values superseded while a save was running: a draft saved
// on every keystroke costs one write per pause, never a queue of writes.
type latest struct {
	mu   sync.Mutex
	next []byte
	has  bool
	busy bool
	idle sync.WaitGroup
}

// put hands data to save, through t; done, if not nil, runs on the UI goroutine
// with the error of the last save of a burst.
func (l *latest) put(t *tasks, data []byte, save func([]byte) error, done func(error)) {
	l.mu.Lock()
	l.next, l.has = data, true
	if l.busy {
		l.mu.Unlock()
		return
	}
	l.busy = true
	l.idle.Add(1)
	l.mu.Unlock()
	t.run(func() func() {
		var err error
		for {
			l.mu.Lock()
			if !l.has {
				l.busy = false
				l.idle.Done()
				l.mu.Unlock()
				break
			}
			data := l.next
			l.next, l.has = nil, false
			l.mu.Unlock()
			err = save(data)
		}
		if done == nil {
			return nil
		}
		return func() { done(err) }
	})
}

// flush waits until no save is running. Call it off the UI goroutine, after
// making sure no more values are put.
func (l *latest) flush() { l.idle.Wait() }
