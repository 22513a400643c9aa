# Prints "N passed, N failed" from the .trx files under the given folder; fails when anything failed or nothing ran.
param([Parameter(Mandatory)] [string] $ResultsDirectory)
$passed = 0
$failed = 0
$files = @(Get-ChildItem -Path $ResultsDirectory -Filter *.trx -Recurse -ErrorAction SilentlyContinue)
foreach ($file in $files) {
    [xml] $trx = Get-Content -Raw $file.FullName
    $counters = $trx.TestRun.ResultSummary.Counters
    $passed += [int] $counters.passed
    $failed += [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
}
if ($files.Count -eq 0) { $failed = 1 }
Write-Output "$passed passed, $failed failed"
if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
