// Package extstore is the install store of extensions in the data directory
// ($CAIRN_HOME/extensions): one folder per installed version holding the verified manifest,
// module and signature, and installed.json recording versions, publisher keys and the
// capabilities the user granted. Installs and updates are staged in temporary folders and
// committed together by replacing installed.json, so a crash leaves the old set or the new one.
//
// An installed id is bound to the publisher key that installed it (trust on first use per id):
// an update signed by another key (ErrKeyChanged) or older than the installed version
// (ErrDowngrade) needs the explicit consent of UpdateOptions, and a key change resets the
// grants. See the registry package's trust model.
package extstore
