#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, packs and measures ProcIsolates.
.DESCRIPTION
    Run it through the PowerShell dotnet tool pinned in .config/dotnet-tools.json:
        dotnet tool restore
        dotnet pwsh build.ps1 [targets] [-Configuration Release]
    Targets (default: restore build test):
        restore  restore packages and tools
        build    build the solution (warnings are errors)
        format   check formatting against .editorconfig (dotnet format --verify-no-changes)
        test     run the test suite
        tour     run the tour of the library (samples/Tour)
        pack     pack the NuGet packages into artifacts/packages
        consumer pack, then use the package from a fresh console app and test project (tests/Consumer)
        bench    run the benchmarks (bench/ProcIsolates.Benchmarks) and the Python baselines
        compare  measure the isolation levels against each other; print the table and write it, with a
                 chart (docs/images/isolation-comparison.png), into docs/benchmarks.md (-Quick: the short setting)
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0, ValueFromRemainingArguments = $true)]
    [ValidateSet('restore', 'build', 'format', 'test', 'tour', 'pack', 'consumer', 'bench', 'compare')]
    [string[]] $Targets = @('restore', 'build', 'test'),
    [string] $Configuration = 'Release',
    [switch] $Quick
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Step([string] $Name, [scriptblock] $Command) {
    Write-Host "==> $Name" -ForegroundColor Cyan
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$Name failed with exit code $LASTEXITCODE" }
}

foreach ($target in $Targets) {
    switch ($target) {
        'restore' {
            Invoke-Step 'restore tools' { dotnet tool restore }
            Invoke-Step 'restore packages' { dotnet restore ProcIsolates.sln }
        }
        'build' { Invoke-Step 'build' { dotnet build ProcIsolates.sln -c $Configuration --no-restore } }
        'format' { Invoke-Step 'format check' { dotnet format ProcIsolates.sln --verify-no-changes --no-restore } }
        'test' { Invoke-Step 'test' { dotnet test ProcIsolates.sln -c $Configuration } }
        'tour' { Invoke-Step 'tour' { dotnet run --project samples/Tour -c $Configuration } }
        'pack' { Invoke-Step 'pack' { dotnet pack ProcIsolates.sln -c $Configuration -o artifacts/packages } }
        'consumer' { Invoke-Step 'consumer check' { & "$PSScriptRoot/tests/Consumer/Check-Consumer.ps1" -Configuration $Configuration } }
        'compare' {
            $arguments = @('compare') + $(if ($Quick) { @('quick') } else { @() })
            Invoke-Step 'isolation comparison' { dotnet run --project bench/ProcIsolates.Benchmarks -c Release -- @arguments }
        }
        'bench' {
            Invoke-Step 'benchmarks' { dotnet run --project bench/ProcIsolates.Benchmarks -c Release -- --filter '*' }
        }
    }
}
